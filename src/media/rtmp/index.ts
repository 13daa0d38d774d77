export * from './amf0.js';
export * from './chunk.js';
export * from './handshake.js';
export * from './session.js';
export * from './remux.js';
