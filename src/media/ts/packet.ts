/**
 * The numbers of an MPEG-TS packet and a PES header (ISO/IEC 13818-1 2.4.3.2, 2.4.3.4, 2.4.3.6),
 * named once. The demuxer keeps module-local copies of the ones it reads per packet.
 */
export const TS_PACKET = 188;
export const TS_SYNC = 0x47;

// byte 1
export const TEI_BIT = 0x80;
export const PUSI_BIT = 0x40;
export const PID_HIGH_MASK = 0x1f;
// byte 3
export const AF_PRESENT_BIT = 0x20;
export const PAYLOAD_PRESENT_BIT = 0x10;
export const CC_MASK = 0x0f;
// adaptation field flags (the byte after adaptation_field_length)
export const AF_DISCONTINUITY_BIT = 0x80;
export const AF_RANDOM_ACCESS_BIT = 0x40;
export const AF_PCR_BIT = 0x10;
/** adaptation_field_length that holds a PCR: the flags byte and 6 bytes of PCR */
export const AF_PCR_MIN_LENGTH = 7;

/** start code prefix (3), stream_id, PES_packet_length (2): all a PES without optional header has */
export const PES_SHORT_HEADER = 6;
/** … plus the two flag bytes and PES_header_data_length */
export const PES_FIXED_HEADER = 9;
/** PTS_DTS_flags: '10' PTS only, '11' PTS and DTS, '01' forbidden */
export const PTS_ONLY = 2;
export const PTS_AND_DTS = 3;
export const PTS_FORBIDDEN = 1;
/** bytes of a PTS or DTS field */
export const TIMESTAMP_BYTES = 5;
