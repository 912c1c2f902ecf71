#!/usr/bin/env node
/**
 * The `farcall` command: run a Network Manager and manage its users, trusted hostnames, keys and
 * certificates. Every error ends the process with a non-zero status and a one-line message.
 * @module
 */
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv);
