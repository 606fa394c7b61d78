import { lookup as dnsLookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

/**
 * SSRF guard of webhook endpoint URLs. A URL is refused when its host is, or resolves to, any address that is not
 * public unicast: loopback, private (RFC 1918), link-local (incl. the cloud metadata address 169.254.169.254),
 * unique-local (fc00::/7, incl. AWS's fd00:ec2::254), CGNAT (100.64.0.0/10), multicast, unspecified, broadcast,
 * reserved, and IPv6 forms that embed IPv4 (6to4, Teredo, NAT64) — ipaddr.js `range()` other than `unicast`;
 * IPv4-mapped IPv6 is checked as the IPv4 it carries. An allow-list (WEBHOOK_ALLOW_PRIVATE_HOSTS: exact host names
 * or CIDRs) lets chosen hosts through (tests and the demo use 127.0.0.1). Checked at create/update and again at
 * every delivery, where the connection goes to the address that was checked (no second DNS answer: DNS rebinding).
 */

/** Resolves a host name to its addresses (injected in tests; default `dns.lookup(host, { all: true })`). */
export type Resolver = (host: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

/** The refusal of a URL, with a message an admin can act on. */
export class SsrfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SsrfError';
  }
}

/** The ipaddr.js range of `ip` when it is not public unicast, else null. */
export function forbiddenRange(ip: string): string | null {
  const addr = ipaddr.process(ip);
  const range = addr.range();
  return range === 'unicast' ? null : range;
}

/** Parses the allow-list entries once: host names (lower case) and CIDRs. @throws Error on a malformed CIDR. */
export function parseAllowList(entries: readonly string[]): { hosts: Set<string>; cidrs: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> } {
  const hosts = new Set<string>();
  const cidrs: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];
  for (const e of entries) {
    if (e.includes('/')) cidrs.push(ipaddr.parseCIDR(e));
    else hosts.add(e.toLowerCase().replace(/^\[|\]$/g, ''));
  }
  return { hosts, cidrs };
}

export interface SsrfPolicy {
  allow: ReturnType<typeof parseAllowList>;
  resolver: Resolver;
}

/** A policy from the allow-list setting and an optional resolver. */
export function ssrfPolicy(allowPrivateHosts: readonly string[], resolver: Resolver = systemResolver): SsrfPolicy {
  return { allow: parseAllowList(allowPrivateHosts), resolver };
}

const allowedIp = (p: SsrfPolicy, ip: string) => {
  const a = ipaddr.process(ip);
  return p.allow.cidrs.some(([net, bits]) => net.kind() === a.kind() && a.match([net, bits] as never));
};

/**
 * Checks a webhook URL: http(s) only, no credentials in it, and every address of its host allowed.
 * @returns the checked addresses (connect to one of them, never resolve again).
 * @throws SsrfError naming the host and the kind of address that was refused, or why the URL is not usable.
 */
export async function checkWebhookUrl(url: string, p: SsrfPolicy): Promise<Array<{ address: string; family: number }>> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SsrfError('not a valid URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new SsrfError('must be an http:// or https:// URL');
  if (u.username || u.password) throw new SsrfError('must not contain a user name or password');
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const hostAllowed = p.allow.hosts.has(host);
  let addrs: Array<{ address: string; family: number }>;
  if (ipaddr.isValid(host)) addrs = [{ address: host, family: ipaddr.parse(host).kind() === 'ipv6' ? 6 : 4 }];
  else {
    try {
      addrs = await p.resolver(host);
    } catch {
      throw new SsrfError(`host ${host} does not resolve`);
    }
    if (!addrs.length) throw new SsrfError(`host ${host} does not resolve`);
  }
  if (hostAllowed) return addrs;
  for (const a of addrs) {
    const range = forbiddenRange(a.address);
    if (range && !allowedIp(p, a.address)) {
      throw new SsrfError(`host ${host} ${a.address === host ? 'is' : `resolves to ${a.address}, which is`} a ${range} address; webhooks only go to public addresses (WEBHOOK_ALLOW_PRIVATE_HOSTS lists exceptions)`);
    }
  }
  return addrs;
}
