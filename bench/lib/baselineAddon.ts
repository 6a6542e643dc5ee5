// Preloaded (node --require) into a process of the open benchmark that should
// run another build of hnswlib-node's addon, such as the one main's loader
// built: every load of hnswlib-node/build/Release/addon.node, in the main
// thread and in worker threads, loads PATCHLENS_BENCH_HNSWLIB_ADDON instead.

const addon = process.env.PATCHLENS_BENCH_HNSWLIB_ADDON;
if (addon) {
  const dlopen = process.dlopen.bind(process);
  process.dlopen = (module: { exports: unknown }, filename: string, flags?: number) => {
    const file = /hnswlib-node[\\/]build[\\/]Release[\\/]addon\.node$/.test(filename) ? addon : filename;
    // dlopen refuses an explicit undefined mode
    if (flags === undefined) dlopen(module, file);
    else dlopen(module, file, flags);
  };
}
