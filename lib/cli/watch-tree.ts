/**
 * Watches files and directory trees for `event-router dev --watch`. Every directory gets its own
 * non-recursive watcher, and a file is watched through its directory: a watcher on the file itself
 * (or Node 20's recursive watch on Linux) follows the file's first inode and goes deaf once an
 * editor, `sed -i` or `git checkout` saves by writing a new file and renaming it over the old one.
 */
import { existsSync, type FSWatcher, readdirSync, statSync, watch } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** What to watch: single files, and directories with everything below them. */
export interface WatchTargets {
  readonly files: readonly string[];
  readonly trees: readonly string[];
}

/** Directories under `root` (itself included), skipping node_modules and dot-directories. */
function directoriesUnder(root: string): string[] {
  const out = [root];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    out.push(...directoriesUnder(join(root, entry.name)));
  }
  return out;
}

/**
 * Calls `onChange` (with the changed path) on any change to the files or inside the trees, including
 * files replaced by rename and directories created later. Returns a function that stops watching.
 * A directory that cannot be watched for another reason than being gone (the system's inotify
 * limits: EMFILE, ENOSPC) is reported to `onError`; without it, that directory goes unwatched.
 */
export function watchTree(
  targets: WatchTargets,
  onChange: (path: string) => void,
  onError?: (dir: string, error: Error) => void,
): () => void {
  const watchers = new Map<string, FSWatcher>();
  /** Directory -> the only names in it that matter (undefined: all of them, a watched tree). */
  const only = new Map<string, Set<string> | undefined>();

  const add = (dir: string, tree: boolean) => {
    if (watchers.has(dir)) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, (_event, name) => {
        const file = name ? join(dir, name.toString()) : dir;
        const names = only.get(dir);
        if (names && !names.has(basename(file))) return;
        if (tree && name && existsSync(file)) {
          try {
            if (statSync(file).isDirectory()) for (const sub of directoriesUnder(file)) add(sub, true);
          } catch {
            // Gone again before we looked: nothing to watch.
          }
        }
        onChange(file);
      });
    } catch (error) {
      // The directory vanished between listing and watching: nothing to watch. Anything else is news.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') onError?.(dir, error as Error);
      return;
    }
    watcher.on('error', () => {
      watcher.close();
      watchers.delete(dir);
    });
    watchers.set(dir, watcher);
  };

  for (const tree of targets.trees) {
    const root = resolve(tree);
    if (!existsSync(root)) continue;
    only.set(root, undefined);
    for (const dir of directoriesUnder(root)) {
      only.set(dir, undefined);
      add(dir, true);
    }
  }
  for (const file of targets.files) {
    const path = resolve(file);
    const dir = dirname(path);
    if (!only.has(dir)) only.set(dir, new Set());
    only.get(dir)?.add(basename(path));
    add(dir, false);
  }
  return () => {
    for (const watcher of watchers.values()) watcher.close();
    watchers.clear();
  };
}
