/** ffmpeg: binary resolution, capabilities, and the one argument builder. */
export * from './resolve.js';
export * from './caps.js';
export * from './hardware.js';
export * from './args.js';
export * from './fake.js';
export * from './quote.js';
export { backendFor, type Backend, type KeyframePlan } from './hw.js';
