// Public API of farcall/network (filled in by the network layer).
export {};
