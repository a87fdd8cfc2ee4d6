/**
 * Hash routes, so every screen has an address that survives a reload with no server help:
 * #/scope/<path>/policies, #/scope/<path>/security, #/overview, #/audit, #/learn.
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { screen: 'policies'; scope: string; policy?: string }
  | { screen: 'security'; scope: string }
  | { screen: 'overview' }
  | { screen: 'audit' }
  | { screen: 'learn'; scope?: string };

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#\/?/, '');
  const m = /^scope\/(.+?)\/(policies|security)(?:\/([^/]+))?$/.exec(h);
  if (m) {
    const scope = decodeURIComponent(m[1]!);
    if (m[2] === 'security') return { screen: 'security', scope };
    return m[3] ? { screen: 'policies', scope, policy: m[3] } : { screen: 'policies', scope };
  }
  if (h === 'audit') return { screen: 'audit' };
  const learn = /^learn(?:\/(.+))?$/.exec(h);
  if (learn) return learn[1] ? { screen: 'learn', scope: learn[1] } : { screen: 'learn' };
  return { screen: 'overview' };
}

export function href(route: Route): string {
  switch (route.screen) {
    case 'policies':
      return `#/scope/${route.scope}/policies${route.policy ? `/${route.policy}` : ''}`;
    case 'security':
      return `#/scope/${route.scope}/security`;
    case 'learn':
      return route.scope ? `#/learn/${route.scope}` : '#/learn';
    default:
      return `#/${route.screen}`;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
