/**
 * PSI section assembly for one PID (PAT or PMT): sections that start after a pointer field, span
 * packets or share one, cut at their section_length; stuffing (0xff) ends a packet's sections.
 * Whole sections go to `onSection` (CRC and parsing are the caller's); an impossible length is an error.
 */
import { Buffer } from 'node:buffer';

const PACKET = 188;
/** ISO/IEC 13818-1: a PAT/PMT section is at most 1024 bytes (section_length ≤ 1021). */
export const MAX_SECTION = 1024;
/** table_id 0xff: stuffing, no section follows in this packet */
const STUFFING = 0xff;
/** table_id, then 4 bits of flags and 12 bits of section_length */
const SECTION_HEADER = 3;

export class SectionReader {
  private readonly buf = Buffer.allocUnsafe(MAX_SECTION + PACKET);
  private len = 0;
  private need = -1;

  constructor(
    private readonly onSection: (buf: Buffer, off: number, len: number) => void,
    private readonly onError: () => void,
  ) {}

  /** Forget a partial section (after a continuity error, or a new PMT PID). */
  reset(): void {
    this.len = 0;
    this.need = -1;
  }

  /** The payload buf[p, end) of one packet of this PID; `pusi`: payload_unit_start_indicator. */
  push(buf: Buffer, p: number, end: number, pusi: number): void {
    if (pusi) {
      const ptr = buf[p]!;
      p++;
      if (this.len > 0) this.append(buf, p, Math.min(end, p + ptr));
      this.reset();
      p += ptr;
      while (p < end) {
        if (buf[p] === STUFFING) return;
        if (end - p < SECTION_HEADER) {
          buf.copy(this.buf, 0, p, end);
          this.len = end - p;
          return;
        }
        const total = SECTION_HEADER + (((buf[p + 1]! & 0x0f) << 8) | buf[p + 2]!);
        if (total > MAX_SECTION) {
          this.onError();
          return;
        }
        if (p + total <= end) {
          this.onSection(buf, p, total);
          p += total;
        } else {
          buf.copy(this.buf, 0, p, end);
          this.len = end - p;
          this.need = total;
          return;
        }
      }
    } else if (this.len > 0) {
      this.append(buf, p, end);
    }
  }

  private append(buf: Buffer, p: number, end: number): void {
    const room = this.buf.length - this.len;
    const n = Math.min(end - p, room);
    if (n <= 0) return;
    buf.copy(this.buf, this.len, p, p + n);
    this.len += n;
    if (this.need < 0 && this.len >= SECTION_HEADER) {
      this.need = SECTION_HEADER + (((this.buf[1]! & 0x0f) << 8) | this.buf[2]!);
      if (this.need > MAX_SECTION) {
        this.onError();
        this.reset();
        return;
      }
    }
    if (this.need > 0 && this.len >= this.need) {
      const need = this.need;
      this.reset();
      this.onSection(this.buf, 0, need);
    }
  }
}
