/**
 * The revocation list in force, shared by every engine the running engine builds (a config reload that swaps the
 * Authorizer keeps it), and its loads: read, validate and compile the file, then swap the list in one assignment,
 * so a call sees the old list or the new one, never half of one. A load that fails keeps the last good list and
 * throws (ConfigError, naming `revocations.file`); each load's outcome goes out through a hook, once.
 */
import { resolve } from 'node:path';
import { loadRevocationFile } from '../config/revocation-file.js';
import { compileRevocations, RevocationList } from '../policy/revocation-list.js';

export type RevocationLoadOutcome = 'success' | 'failure';

/** What an Authorizer reads on every call: the list in force now. */
export interface RevocationsInForce {
  readonly list: RevocationList;
}

export interface RevocationSourceHooks {
  /** Every load's outcome, with the entries in force afterwards. */
  readonly loaded?: (outcome: RevocationLoadOutcome, entries: number) => void;
}

export class RevocationSource implements RevocationsInForce {
  readonly #hooks: RevocationSourceHooks;
  #list: RevocationList = RevocationList.empty;
  #file: string | undefined;
  /** The text the list was built from: a file event that changed nothing reloads nothing. */
  #text: string | undefined;

  constructor(hooks: RevocationSourceHooks = {}) {
    this.#hooks = hooks;
  }

  get list(): RevocationList {
    return this.#list;
  }

  /** The file the list comes from (absolute), or undefined when the config names none. */
  get file(): string | undefined {
    return this.#file;
  }

  /**
   * Loads `file` (undefined: no list at all) and puts it in force. Throws a ConfigError when the file cannot be
   * read or does not validate; the list in force then stays.
   */
  use(file: string | undefined): RevocationList {
    this.prepare(file)();
    return this.#list;
  }

  /**
   * Loads `file` but puts it in force only when the returned function is called (a config reload loads it before
   * anything else is swapped, and commits it last). Throws, counting a failure, as {@link use}.
   */
  prepare(file: string | undefined): () => void {
    if (file === undefined) {
      return () => {
        this.#file = this.#text = undefined;
        this.#list = RevocationList.empty;
      };
    }
    return this.#read(resolve(file), false) ?? (() => {});
  }

  /** Re-reads the current file; `onlyIfChanged`: do nothing (and count nothing) when its text is the same. */
  reload(onlyIfChanged: boolean): RevocationList {
    if (this.#file !== undefined) this.#read(this.#file, onlyIfChanged)?.();
    return this.#list;
  }

  /** The commit of a new list read from `file`; undefined when nothing changed and `onlyIfChanged`. */
  #read(file: string, onlyIfChanged: boolean): (() => void) | undefined {
    let loaded: ReturnType<typeof loadRevocationFile>;
    let list: RevocationList;
    try {
      loaded = loadRevocationFile(file);
      if (onlyIfChanged && file === this.#file && loaded.text === this.#text) return undefined;
      list = compileRevocations(loaded.entries);
    } catch (err) {
      this.#hooks.loaded?.('failure', this.#list.size);
      throw err;
    }
    return () => {
      this.#file = file;
      this.#text = loaded.text;
      this.#list = list;
      this.#hooks.loaded?.('success', list.size);
    };
  }
}
