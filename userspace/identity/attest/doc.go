// Package attest measures what an agent process runs: the SHA-256 of the executable behind
// /proc/<pid>/exe, written sha256:<hex>.
//
// Measurements are cached per file version — device, inode, size, mtime and ctime — so repeated
// connections from the same binary cost one stat(2) of /proc/<pid>/exe; a binary replaced on disk
// (new inode) or rewritten in place (new mtime/ctime, which no user can set back) is hashed again.
// A running process keeps the measurement of the file it was started from even after that file
// is replaced, because /proc/<pid>/exe still points at the old inode; a process that exec()s
// another program (an interpreter swapped, a shell replaced by a tool) shows the new program's
// measurement on its next connection.
//
// For an interpreted agent the measurement is the interpreter's; measuring the script too is
// left to a later change. The container image digest, where known, belongs beside it.
package attest
