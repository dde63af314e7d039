/**
 * Whether a domain matches an AMQP topic pattern: words separated by dots, `*` one word,
 * `#` zero or more words. The same rule the broker applies to routing keys, used to pick a
 * domain's handler from configuration.
 */
export function topicMatches(pattern: string, domain: string): boolean {
  return matchWords(pattern.split('.'), 0, domain.split('.'), 0);
}

function matchWords(p: string[], i: number, d: string[], j: number): boolean {
  if (i === p.length) return j === d.length;
  const word = p[i];
  if (word === '#') {
    for (let k = j; k <= d.length; k++) if (matchWords(p, i + 1, d, k)) return true;
    return false;
  }
  if (j === d.length) return false;
  return (word === '*' || word === d[j]) && matchWords(p, i + 1, d, j + 1);
}
