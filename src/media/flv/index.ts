export * from './audio.js';
export * from './file.js';
export * from './video.js';
