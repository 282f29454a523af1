// Intl formatters, made once per language and options and kept for the page's life. Making
// one is costly in WebKit (an ICU formatter is built and its patterns resolved each time, on
// the order of a millisecond on a slow machine) and reusing one is cheap; a list formats a
// moment per row, and on the first page of the inbox those makings held up its first paint.
const dateFormats = new Map<string, Intl.DateTimeFormat>();
const numberFormats = new Map<string, Intl.NumberFormat>();

/** The formatter kept for `language` and `options`, made by `make` the first time. */
function kept<F>(formats: Map<string, F>, language: string, options: object, make: () => F): F {
  const key = `${language}|${JSON.stringify(options)}`;
  let format = formats.get(key);
  if (format === undefined) {
    // A constructor that throws (an unknown time zone) keeps nothing and throws as before.
    format = make();
    formats.set(key, format);
  }
  return format;
}

/** `new Intl.DateTimeFormat(language, options)`, made once. */
export function dateTimeFormat(
  language: string,
  options: Intl.DateTimeFormatOptions = {},
): Intl.DateTimeFormat {
  return kept(dateFormats, language, options, () => new Intl.DateTimeFormat(language, options));
}

/** `new Intl.NumberFormat(language, options)`, made once. */
export function numberFormat(
  language: string,
  options: Intl.NumberFormatOptions = {},
): Intl.NumberFormat {
  return kept(numberFormats, language, options, () => new Intl.NumberFormat(language, options));
}
