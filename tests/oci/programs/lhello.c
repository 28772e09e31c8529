/*
 * lhello.c - the Linux counterpart of probe.wasm's "hello", for the
 * containers wasmbox hands to runc:  gcc -static -O2 lhello.c -o lhello
 * Prints "hello from linux" and its arguments; exits with $EXIT or 0.
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    printf("hello from linux\n");
    for (int i = 0; i < argc; i++)
        printf("arg[%d]=%s\n", i, argv[i]);
    const char *code = getenv("EXIT");
    return code ? atoi(code) : 0;
}
