/** The dashboard draws the router's one graph (lib/plan/graph.ts). */
export * from '../../plan/graph.ts';
