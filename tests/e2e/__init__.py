"""Browser tests: the real pages, real CSRF and Debian's Chromium, driven through Playwright."""
