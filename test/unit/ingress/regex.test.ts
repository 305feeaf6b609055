// User regexes run on the linear-time engine: same answers as the ordinary case-insensitive
// engine, and catastrophic patterns either run linearly or are rejected.
import { describe, expect, it } from 'vitest';
import { foldCase, LINEAR_ENGINE, linearRegExp, UnsafeRegexError } from '../../../src/ingress/regex.js';

const PATTERNS = [
  '^/something(/|$)(.*)',
  '^/v[0-9]+/items',
  '^/API/(v1|V2)/[a-f0-9]{4,8}$',
  '^/[A-Z][a-z_-]*/?',
  '^/(?<Name>[^/]+)/Edit',
  '^/\\w+\\.(JPG|png)$',
  '^/a[^b-dX]+z',
  '^/\\x41\\u0042/',
  '^/q(?:uery)?/\\d+',
  '^/.*?End',
];

const SAMPLES = ['/something', '/SOMETHING/New/Path', '/v2/items/7', '/V10/ITEMS', '/api/v1/DEADbeef', '/Api/V2/12', '/Foo_bar-/', '/x', '/joe/edit', '/JOE/EDIT/1', '/photo.jpg', '/a.PNG', '/aqqz', '/AXZ', '/aXz', '/AB/C', '/ab/', '/q/12', '/Query/3', '/thEnd', '/theend', '/', ''];

describe('linear-time user regexes', () => {
  it('the linear engine is available on this Node', () => {
    expect(LINEAR_ENGINE).toBe(true);
  });

  it('case folding gives the same matches and captures as the i flag', () => {
    for (const p of PATTERNS) {
      const linear = linearRegExp(p, true);
      expect(linear.flags).toContain('l');
      const reference = new RegExp(p, 'i');
      for (const s of SAMPLES) expect([p, s, linear.exec(s)?.slice() ?? null]).toEqual([p, s, reference.exec(s)?.slice() ?? null]);
    }
  });

  it('folds letters outside escapes, named groups and inside classes', () => {
    expect(foldCase('/aB')).toBe('/[aA][Bb]');
    expect(foldCase('[a-cX_-]\\d\\p{L}(?<Id>x)')).toBe('[A-Cxa-cX_-]\\d\\p{L}(?<Id>[xX])');
  });

  it('catastrophic patterns finish on a crafted input (a backtracking engine would not)', () => {
    const evil = '/' + 'a'.repeat(64) + '!';
    for (const p of ['^/(a+)+$', '^/(a|a)*$', '^/(a|aa)+$', '^/(\\w+\\s?)*$']) {
      const re = linearRegExp(p, true);
      expect(re.test(evil)).toBe(false);
      expect(re.test('/aaaa')).toBe(true);
    }
  });

  it('rejects what cannot run in linear time, and invalid syntax', () => {
    expect(() => linearRegExp('^/(a)\\1', true)).toThrow(UnsafeRegexError);
    expect(() => linearRegExp('^/(?=admin)', true)).toThrow(UnsafeRegexError);
    expect(() => linearRegExp('^/(a{2,30})+$', true)).toThrow(UnsafeRegexError);
    expect(() => linearRegExp('^/(unclosed', true)).toThrow(SyntaxError);
  });
});
