#!/bin/sh
# N Patch Lens builders on one machine (or start this on several with other
# PARTS ranges): each encodes its part of the dataset into one Lance database,
# then one --finalize trains the vector index. Re-running is safe: a part skips
# what is already in, and replaces what a killed builder left half written.
#   DATA=/data/cc12m DB=s3://team/cc12m N=8 sh lance-builders.sh
set -eu
: "${DATA:?the dataset folder}" "${DB:?the database: a folder or s3://bucket/prefix}"
N=${N:-4}
i=1
while [ "$i" -le "$N" ]; do
  patchlens index "$DATA" --db "$DB" --backend lance --part "$i/$N" --workers 1 --quiet > "part-$i.log" 2>&1 &
  i=$((i + 1))
done
wait
patchlens index "$DATA" --db "$DB" --backend lance --finalize
