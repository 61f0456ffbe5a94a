/**
 * Loads the router spec for code generation and the publish-area CLI commands, through the project
 * loader (full validation, `file:line:col` diagnostics). Handler modules are not checked: codegen must
 * run before handlers that import the generated types exist.
 */
import { formatDiagnostics, loadSpec } from '../config/load.ts';
import type { RouterSpec } from '../config/types.ts';

/** The spec, or the formatted diagnostics that explain why it could not be loaded. */
export type SpecResult =
  | { readonly spec: RouterSpec; readonly errors?: undefined }
  | { readonly spec?: undefined; readonly errors: string };

/** Loads and validates `file` (default `event-router.yaml` in the working directory). */
export function loadRouterSpec(file = 'event-router.yaml'): SpecResult {
  const result = loadSpec(file, { checkHandlers: false });
  if (result.spec) return { spec: result.spec };
  return { errors: formatDiagnostics(result.diagnostics) };
}
