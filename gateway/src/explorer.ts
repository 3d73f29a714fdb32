import type { Express } from 'express';

export const EXPLORER_PATH = '/explorer';

/** Imported by name at run time: its typings pull graphql-yoga's, whose fetch types clash with Node's. */
const RENDERER: string = '@graphql-yoga/render-graphiql';
type Render = (options: { endpoint: string; title: string }) => string;

/**
 * A GraphQL explorer that needs no internet: GraphiQL as @graphql-yoga/render-graphiql builds it,
 * one HTML page with its scripts, styles and editor workers inline (Apollo Sandbox, on /graphql,
 * loads from Apollo's CDN). It sends queries to /graphql of this gateway, so the same limits, rate
 * limits and tokens apply (add `Authorization: Bearer …` in its headers pane). Like Sandbox and
 * introspection, it is off in production. The page (about 9 MB) is rendered once, on first use.
 */
export function mountExplorer(app: Express, options: { graphqlPath: string }): void {
  let page: Promise<string> | undefined;
  app.get(EXPLORER_PATH, (_req, res, next) => {
    page ??= (import(RENDERER) as Promise<{ renderGraphiQL: Render }>).then(({ renderGraphiQL }) =>
      renderGraphiQL({ endpoint: options.graphqlPath, title: 'Shop GraphQL explorer' }),
    );
    page.then(
      (html) => res.type('html').setHeader('cache-control', 'no-cache').send(html),
      (error: unknown) => next(error),
    );
  });
}
