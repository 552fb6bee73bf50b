// PURE: parse `WWW-Authenticate` (RFC 7235 auth-params, as registries send them).

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

const SCHEME = /[\s,]*([A-Za-z][A-Za-z0-9_.-]*)(?=\s|,|$)/y;
const PARAM = /\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*,?/y;

/**
 * The first challenge we support, or undefined. A header may list several challenges
 * (`Negotiate, Bearer realm="…"`, or repeated headers joined with ", "); unknown schemes are skipped.
 */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  let at = 0;
  for (;;) {
    SCHEME.lastIndex = at;
    const scheme = SCHEME.exec(header);
    if (!scheme) return undefined;
    at = SCHEME.lastIndex;
    const params: Record<string, string> = {};
    for (;;) {
      PARAM.lastIndex = at;
      const param = PARAM.exec(header);
      if (!param || PARAM.lastIndex === at) break;
      at = PARAM.lastIndex;
      params[param[1]!.toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : (param[3] ?? '');
    }
    const name = scheme[1]!.toLowerCase();
    if (name === 'basic' || name === 'bearer') return { scheme: name, params };
  }
}
