import { numberToIpv4, parseCidr } from './addresses.js';
/**
 * A real DNS question asked from inside a node, so "CoreDNS answers" means exactly that. The
 * node image has no DNS client, but it has bash (whose /dev/udp opens a UDP socket) and
 * coreutils: kur builds the query here, the node sends it, and kur reads the reply's header.
 */

/** An A query for `name`, recursion desired, with a fixed id (one question per socket). */
export function dnsQuery(name: string, id = 0x6b75): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // standard query, RD
  header.writeUInt16BE(1, 4); // QDCOUNT
  const labels = name
    .replace(/\.$/, '')
    .split('.')
    .map((label) => {
      const bytes = Buffer.from(label, 'ascii');
      if (bytes.length === 0 || bytes.length > 63) throw new Error(`invalid DNS label in ${name}`);
      return Buffer.concat([Buffer.from([bytes.length]), bytes]);
    });
  const question = Buffer.concat([...labels, Buffer.from([0, 0, 1, 0, 1])]); // root, type A, class IN
  return Buffer.concat([header, question]);
}

export interface DnsReply {
  id: number;
  /** 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ... */
  rcode: number;
  answers: number;
}

/** Reads a reply's header from `od -An -tx1` output (hex bytes separated by spaces and newlines). */
export function parseDnsReply(hexDump: string): DnsReply | undefined {
  const bytes = hexDump
    .split(/\s+/)
    .filter((b) => /^[0-9a-f]{2}$/i.test(b))
    .map((b) => parseInt(b, 16));
  if (bytes.length < 12) return undefined;
  const flags = (bytes[2]! << 8) | bytes[3]!;
  if ((flags & 0x8000) === 0) return undefined; // not a response
  return { id: (bytes[0]! << 8) | bytes[1]!, rcode: flags & 0x0f, answers: (bytes[6]! << 8) | bytes[7]! };
}

/** The node-side script: send stdin as one datagram to $1:53, print the reply as hex. */
export const dnsProbeScript =
  'exec 3<>"/dev/udp/$1/53" && cat >&3 && timeout 2 dd bs=4096 count=1 <&3 2>/dev/null | od -An -tx1';

/** The cluster DNS service address: the tenth address of the service subnet, as kubeadm picks it. */
export function clusterDnsIp(serviceSubnet: string): string {
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(serviceSubnet)) {
    throw new Error(`${serviceSubnet} is not an IPv4 subnet`);
  }
  return numberToIpv4(parseCidr(serviceSubnet).base + 10);
}
