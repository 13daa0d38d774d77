/** allow/deny CIDR lists (IPv4, IPv6, IPv4-mapped IPv6 clients) through node's BlockList. */
import { BlockList, isIP } from 'node:net';

export class IpRules {
  private readonly allow: BlockList | undefined;
  private readonly deny: BlockList | undefined;

  constructor(allow: string[] | undefined, deny: string[] | undefined) {
    this.allow = allow?.length ? build(allow) : undefined;
    this.deny = deny?.length ? build(deny) : undefined;
  }

  get empty(): boolean {
    return !this.allow && !this.deny;
  }

  /** undefined when the address may pass, else why not. Deny wins over allow. */
  check(address: string | undefined): string | undefined {
    if (this.empty) return undefined;
    const a = normalize(address);
    if (!a) return 'unknown client address';
    if (this.deny && this.deny.check(a.addr, a.fam)) return `address ${a.addr} is denied`;
    if (this.allow && !this.allow.check(a.addr, a.fam)) return `address ${a.addr} is not allowed`;
    return undefined;
  }
}

function normalize(address: string | undefined): { addr: string; fam: 'ipv4' | 'ipv6' } | undefined {
  if (!address) return undefined;
  const v4 = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const fam = isIP(v4);
  return fam === 4 ? { addr: v4, fam: 'ipv4' } : fam === 6 ? { addr: v4, fam: 'ipv6' } : undefined;
}

function build(list: string[]): BlockList {
  const b = new BlockList();
  for (const c of list) {
    const [addr, bits] = c.split('/');
    const fam = isIP(addr!) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) b.addAddress(addr!, fam);
    else b.addSubnet(addr!, Number(bits), fam);
  }
  return b;
}
