/**
 * Socket addresses as written in settings: `host:port`, `:port` (the host comes from a default-address
 * setting), `host` (the setting's default port), IPv6 hosts in brackets (`[::1]:7687`). Pure parsing and
 * printing; a parsed host never carries brackets.
 */
import { isIP, isIPv6 } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Expected form, for error messages. */
export const listenAddressExpected = 'a listen address such as localhost:7687, :7687 or [::1]:7687';
export const hostExpected = 'a host name or IP address such as localhost, 0.0.0.0 or [::]';

/**
 * Parses one address. `defaultHost` fills in `:port`; `defaultPort` fills in a lone host.
 * Returns `undefined` for anything malformed: empty host and port, a port outside 0–65535,
 * an unbracketed IPv6 address with a port, a host with characters no host name has.
 */
export function parseListenAddress(raw: string, defaultHost: string, defaultPort: number): ListenAddress | undefined {
  const text = raw.trim();
  let hostText: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracketed !== null) {
    if (!isIPv6(bracketed[1]!)) return undefined;
    hostText = bracketed[1]!;
    portText = bracketed[2];
  } else {
    const colons = text.split(':').length - 1;
    if (colons > 1) return undefined; // IPv6 needs brackets here, or its last group would read as a port
    const colon = text.indexOf(':');
    hostText = colon === -1 ? text : text.slice(0, colon);
    portText = colon === -1 ? undefined : text.slice(colon + 1);
    if (hostText === '' && portText === undefined) return undefined;
    if (hostText !== '' && !isHostName(hostText)) return undefined;
  }
  const port = portText === undefined ? defaultPort : parsePort(portText);
  if (port === undefined) return undefined;
  return { host: hostText === '' ? defaultHost : hostText, port };
}

/** A host alone (for `server.default_listen_address`): a name, an IPv4 address, or IPv6 with or without brackets. */
export function parseHost(raw: string): string | undefined {
  const text = raw.trim();
  const bracketed = /^\[([^\]]*)\]$/.exec(text);
  if (bracketed !== null) return isIPv6(bracketed[1]!) ? bracketed[1]! : undefined;
  if (text.includes(':')) return isIPv6(text) ? text : undefined;
  return isHostName(text) ? text : undefined;
}

/** `host:port`, with brackets around an IPv6 host so that the result parses back to the same address. */
export function listenAddressToString(address: ListenAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}

function isHostName(text: string): boolean {
  return isIP(text) !== 0 || /^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})$/.test(text);
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/** Expected form of a server to connect to, for hints. */
export const serverAddressExpected = 'use host:port, for example localhost:6362 or [::1]:6362';

/**
 * Parses the address of a server to connect to (`--from` of the backup command): host and port
 * both required, the port 1–65535. Returns the address, or why the text is not one, in words that
 * follow "it" ("it has no port").
 */
export function parseServerAddress(raw: string): { address: ListenAddress } | { problem: string } {
  const text = raw.trim();
  if (text === '') return { problem: 'it is empty' };
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  let hostText: string;
  let portText: string | undefined;
  if (bracketed !== null) {
    if (!isIPv6(bracketed[1]!)) return { problem: `"${bracketed[1]}" in brackets is not an IPv6 address` };
    hostText = bracketed[1]!;
    portText = bracketed[2];
  } else {
    if (text.split(':').length - 1 > 1) return { problem: 'an IPv6 host needs brackets, for example [::1]:6362' };
    const colon = text.indexOf(':');
    hostText = colon === -1 ? text : text.slice(0, colon);
    portText = colon === -1 ? undefined : text.slice(colon + 1);
    if (hostText === '') return { problem: 'it has no host' };
    if (!isHostName(hostText)) return { problem: `"${hostText}" is not a host name or IP address` };
  }
  if (portText === undefined || portText === '') return { problem: 'it has no port' };
  if (!/^\d{1,10}$/.test(portText)) return { problem: `port "${portText}" is not a number` };
  const port = Number(portText);
  if (port < 1 || port > 65535) return { problem: `port ${port} is not between 1 and 65535` };
  return { address: { host: hostText, port } };
}
