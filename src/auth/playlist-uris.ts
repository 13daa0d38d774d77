/**
 * Carry a session's token or id into the URIs of a playlist, so that the player's next requests
 * (media playlists, segments, keys) name the session: hls.js and native players resolve relative
 * URIs against the playlist URL without its query string, so the query must be written in.
 */
const URI_ATTR = /URI="([^"]*)"/g;

function withQuery(uri: string, suffix: string): string {
  if (!uri || uri.startsWith('data:')) return uri;
  const hash = uri.indexOf('#');
  const base = hash < 0 ? uri : uri.slice(0, hash);
  const frag = hash < 0 ? '' : uri.slice(hash);
  return `${base}${base.includes('?') ? '&' : '?'}${suffix}${frag}`;
}

/** `suffix` is `name=value` (already URL-encoded). */
export function addQueryToPlaylist(body: Buffer, suffix: string): Buffer {
  const text = body.toString('utf8');
  const out = text
    .split('\n')
    .map((line) => {
      if (line.startsWith('#')) return line.includes('URI="') ? line.replace(URI_ATTR, (_m, u: string) => `URI="${withQuery(u, suffix)}"`) : line;
      const t = line.trimEnd();
      return t ? withQuery(t, suffix) + line.slice(t.length) : line;
    })
    .join('\n');
  return Buffer.from(out);
}
