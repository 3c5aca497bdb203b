"""Real-browser tests: gunicorn serving the app, headless Debian Chromium driven by Playwright."""
