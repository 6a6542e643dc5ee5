// The database module alone, for the open benchmark's fresh-process probe.
export { PatchDatabase } from '../../src/engine/database';
