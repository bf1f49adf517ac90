/**
 * Every bound the configuration subsystem puts on outside input, in one place with its reason.
 * Loops over config files, folders and command output are bounded by these.
 */

/** Neo4j's `internal.dbms.config.command_evaluation_timeout`: a `$(…)` command must finish within 30 s. */
export const commandTimeoutMsDefault = 30_000;

/** A command prints one setting value (a password, a path); anything bigger is a mistake, not a value. */
export const commandOutputBytesMax = 1024 * 1024;

/** Characters of a failing command's stderr quoted in the error; enough to see why, not a log dump. */
export const commandStderrCharsMax = 400;

/** A config file is hand-written text; a bigger one is not a config file (and we read it whole). */
export const confFileBytesMax = 4 * 1024 * 1024;

/** A config folder (Kubernetes secrets mount) holds one file per setting; there are not this many settings. */
export const confFolderEntriesMax = 10_000;

/** Keys longer than this get no did-you-mean suggestion (edit distance is quadratic in length). */
export const suggestKeyCharsMax = 200;
