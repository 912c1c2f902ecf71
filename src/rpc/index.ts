// Public API of farcall/rpc (filled in by the rpc layer).
export {};
