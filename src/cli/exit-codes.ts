/** What every gatehouse command's exit status means. Scripts may rely on these. */
export const EXIT_OK = 0;
/** A token was refused or a call denied (verify, authorize, explain). */
export const EXIT_DENIED = 1;
/** The command could not do its job: bad usage, bad config, a failed call. */
export const EXIT_FAILED = 2;
