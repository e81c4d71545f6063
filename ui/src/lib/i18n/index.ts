// The dictionaries and the pure part of translation: one dictionary per language, Italian first.
import { it } from './it';
import { en } from './en';

export type Key = keyof typeof it;
export type Dictionary = { readonly [K in Key]: string };
export type Lang = 'it' | 'en';
export type Params = Readonly<Record<string, string | number>>;

export const LANGS: readonly Lang[] = ['it', 'en'];
export const DEFAULT_LANG: Lang = 'it';
export const dictionaries: Readonly<Record<Lang, Dictionary>> = { it, en };

/** `{name}` placeholders of a string, sorted. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(/\{([a-zA-Z_]+)\}/g)].map((m) => m[1]).sort();
}

/** The text of `key` in `lang` with its placeholders filled. */
export function translate(lang: Lang, key: Key, params: Params = {}): string {
  const text = dictionaries[lang][key] ?? dictionaries[DEFAULT_LANG][key] ?? key;
  return text.replace(/\{([a-zA-Z_]+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

export function isLang(x: unknown): x is Lang {
  return x === 'it' || x === 'en';
}
