// vitest global setup: runs once before all test files (owned by the loadlib layer: builds native test libraries).
export default function setup(): void {}
