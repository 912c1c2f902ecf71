// Public API of farcall/wire (filled in by the wire layer).
export {};
