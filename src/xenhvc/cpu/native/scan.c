/* The loader's first cut over a kernel image (cpu/sysreg.py, candidate_words): the indexes of the
   32-bit little-endian words with word & mask == bits for one of a few (mask, bits) patterns.
   A Linux Image is 30-odd MB: this takes milliseconds, where importing numpy to do it took a
   tenth of a second. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Writes at most cap indexes to out; returns how many words match (more than cap: call again
   with room for all). */
size_t xenhvc_match_words(const unsigned char *data, size_t nwords, const uint32_t *patterns,
                          size_t npatterns, uint32_t *out, size_t cap)
{
    size_t found = 0;

    for (size_t i = 0; i < nwords; i++) {
        uint32_t w;
        memcpy(&w, data + 4 * i, 4);
        for (size_t p = 0; p < npatterns; p++) {
            if ((w & patterns[2 * p]) == patterns[2 * p + 1]) {
                if (found < cap)
                    out[found] = (uint32_t)i;
                found++;
                break;
            }
        }
    }
    return found;
}
