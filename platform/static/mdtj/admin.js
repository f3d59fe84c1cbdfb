// Site-wide admin script (loaded by jazzmin's custom_js). Intentionally small.
