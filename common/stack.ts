/**
 * The stack of a failed attempt, bounded for the delivery record, a DLQ message attribute and a
 * terminal line: its frames only (the message is kept apart), node_modules and Node's own frames
 * dropped, paths made relative to the project, at most {@link MAX_STACK_FRAMES} frames and
 * {@link MAX_STACK_CHARS} characters. With source maps enabled (NODE_OPTIONS=--enable-source-maps on
 * Lambda, and in the local function processes) the frames name the handler's TypeScript:
 * `at handler (functions/rpcs/receipts/ocr.ts:12:7)`.
 *
 * Pure functions: used by the worker, and by the CLI and the dashboard to pick the user's frames.
 */

export const MAX_STACK_FRAMES = 10;
export const MAX_STACK_CHARS = 2048;

/** A frame line of a V8 stack: `at name (location)` or `at location`. */
const FRAME = /^\s*at\s+(?:(.*?)\s+\()?(.+?)\)?\s*$/;

/** Control characters other than tab, newline and carriage return (SQS refuses them in attributes). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are what it removes
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]/g;

/** `text` with the characters SQS refuses in a message attribute replaced by `?`. */
export function sanitizeAttribute(text: string): string {
  // Lone surrogates are refused too (they are not valid UTF-8).
  return text
    .replace(CONTROL, '?')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '?');
}

/** True for a frame in a dependency or in Node itself: not the user's code. */
function isForeign(location: string): boolean {
  return (
    location.startsWith('node:') ||
    location.includes('/node_modules/') ||
    location.includes('\\node_modules\\') ||
    location === 'native' ||
    location === '<anonymous>' ||
    location.startsWith('internal/')
  );
}

/** `location` (`path:line:col`) with its path relative to the project when it lies in it. */
function relativeLocation(location: string, options: TrimOptions): string {
  const [, rawPath = location, position = ''] = /^(.*?)((?::\d+){1,2})?$/.exec(location) ?? [];
  let path = rawPath.startsWith('file://') ? decodeURI(rawPath.slice('file://'.length)) : rawPath;
  const { root } = options;
  const base = root ? (root.endsWith('/') ? root : `${root}/`) : undefined;
  if (base && path.startsWith(base)) return `${path.slice(base.length)}${position}`;
  const located = path.startsWith('/') ? options.locate?.(path) : undefined;
  if (located !== undefined) return `${located}${position}`;
  if (options.dropLeadingSlash && path.startsWith('/')) path = path.slice(1);
  return `${path}${position}`;
}

export interface TrimOptions {
  /** Directory the paths are made relative to. */
  readonly root?: string;
  /**
   * For an absolute path outside `root`: the project-relative path of the file it names, when one
   * can be found (a source map resolved from a copy of the bundle at another depth points beside it).
   */
  readonly locate?: (path: string) => string | undefined;
  /** Drop the leading `/` of an absolute path outside `root` (Lambda: sources resolved above the task root). */
  readonly dropLeadingSlash?: boolean;
  readonly maxFrames?: number;
  readonly maxChars?: number;
}

/**
 * The bounded frames of `stack` (an Error's `stack`), one `at ...` per line, or undefined when none
 * is left. Lines before the first frame (the error's message) are not kept.
 */
export function trimStack(stack: string | undefined, options: TrimOptions = {}): string | undefined {
  if (!stack) return undefined;
  const maxFrames = options.maxFrames ?? MAX_STACK_FRAMES;
  const maxChars = options.maxChars ?? MAX_STACK_CHARS;
  const frames: string[] = [];
  for (const line of stack.split('\n')) {
    const match = FRAME.exec(line);
    if (!match) continue;
    const name = match[1];
    const location = match[2] ?? '';
    if (isForeign(location)) continue;
    const where = relativeLocation(location, options);
    frames.push(sanitizeAttribute(name ? `at ${name} (${where})` : `at ${where}`));
    if (frames.length >= maxFrames) break;
  }
  if (frames.length === 0) return undefined;
  let out = '';
  for (const frame of frames) {
    const next = out ? `${out}\n${frame}` : frame;
    if (next.length > maxChars) break;
    out = next;
  }
  return out || frames[0]?.slice(0, maxChars);
}

/** The location (`path:line:col`) of a frame line, when it has one. */
export function frameLocation(frame: string): string | undefined {
  return FRAME.exec(frame)?.[2];
}

/**
 * The frames of a trimmed stack in the user's code: TypeScript (or JavaScript) files outside
 * event-router's own worker modules, top first; all frames when none is.
 */
export function userFrames(stack: string | undefined): string[] {
  const frames = (stack ?? '').split('\n').filter((line) => FRAME.test(line));
  const own = frames.filter((frame) => {
    const location = frameLocation(frame) ?? '';
    return /\.(?:[cm]?tsx?|[cm]?jsx?):\d+(?::\d+)?$/.test(location) && !isEventRouterInternal(location);
  });
  return own.length > 0 ? own : frames;
}

/** The worker's own modules (functions/commons) are event-router's, not the handler's. */
function isEventRouterInternal(location: string): boolean {
  return /(?:^|\/)functions\/commons\//.test(location);
}
