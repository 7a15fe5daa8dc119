/** Edit distance with adjacent transpositions (optimal string alignment), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const rows: number[][] = [];
  for (let i = 0; i <= s.length; i++) {
    const row: number[] = [];
    for (let j = 0; j <= t.length; j++) {
      if (i === 0) row.push(j);
      else if (j === 0) row.push(i);
      else {
        const prev = rows[i - 1]!;
        const cost = s[i - 1] === t[j - 1] ? 0 : 1;
        let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
        if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
          d = Math.min(d, rows[i - 2]![j - 2]! + 1);
        }
        row.push(d);
      }
    }
    rows.push(row);
  }
  return rows[s.length]![t.length]!;
}

/** The candidate closest to `word`, if it is close enough to be a plausible typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // A third of the word's length, at least 2 (1 for words of up to 4 letters): catches
  // `extraPortMapping`, `hostport`, `rol`, without suggesting `name` for `image` or `dns` for `no`.
  const limit = word.length <= 4 ? 1 : Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= limit ? best : undefined;
}
