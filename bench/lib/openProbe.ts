// The database module and the engine client alone, for the open benchmark's fresh-process probes.
export { PatchDatabase } from '../../src/engine/database';
export { EngineClient } from '../../src/engine/engineClient';
