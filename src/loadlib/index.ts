// Public API of farcall/loadlib (filled in by the loadlib layer).
export {};
