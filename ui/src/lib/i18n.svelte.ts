// The page's language, reactive: Italian by default, English on request, remembered in
// localStorage. Components call `t(key, params)`; reading `lang.current` inside it makes every
// text re-render when the language changes.
import { DEFAULT_LANG, isLang, translate, type Key, type Lang, type Params } from './i18n/index';

const STORAGE_KEY = 'sigillo.lang';

function initial(): Lang {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (isLang(stored)) return stored;
  } catch {
    /* storage disabled */
  }
  return DEFAULT_LANG;
}

export const lang = $state<{ current: Lang }>({ current: initial() });

export function t(key: Key, params?: Params): string {
  return translate(lang.current, key, params);
}

export function setLang(next: Lang): void {
  lang.current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    /* storage disabled */
  }
  document.documentElement.lang = next;
}
