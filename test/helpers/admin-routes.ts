import type { Express } from 'express';

/** One route of the admin JSON API as the router holds it. */
export interface AdminApiRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** The OpenAPI path template: `/admin/api/events/{id}/hide`. */
  template: string;
  /** A URL of it, path parameters filled with `values` (or `1`). */
  path: string;
}

/**
 * Every route the app's router serves under /admin/api/, read from the router itself, so that a
 * route added later is checked without being listed anywhere.
 */
export function adminApiRoutes(app: Express, values: Record<string, string> = {}): AdminApiRoute[] {
  const routes: AdminApiRoute[] = [];
  const stack = (app.router as unknown as { stack: RouterLayer[] }).stack;
  for (const layer of stack) {
    const route = layer.route;
    if (!route || typeof route.path !== 'string' || !route.path.startsWith('/admin/api/')) continue;
    for (const method of Object.keys(route.methods)) {
      routes.push({
        method: method.toUpperCase() as AdminApiRoute['method'],
        template: route.path.replace(/:(\w+)/g, '{$1}'),
        path: route.path.replace(/:(\w+)/g, (_match, name: string) =>
          encodeURIComponent(values[name] ?? '1'),
        ),
      });
    }
  }
  return routes;
}

interface RouterLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
}
