#!/usr/bin/env node
// `hush`. The terminal leaves cooked mode before the program loads (about a second on a busy
// machine): in cooked mode it echoes what is typed ahead, a password too, onto the screen hush leaves
// behind when it exits, and turns Enter into a line feed. Typed ahead, keys wait for the login form.
if (process.stdin.isTTY && process.stdout.isTTY) process.stdin.setRawMode(true);
const { run } = await import('./main.js');
run();

export {};
