"""HTML site families (``kind: html:<family>``): pages with no feed, scraped with BeautifulSoup.

``base`` holds what every family shares (the polite crawl through the injected ``get``, ``Page`` with
selectors that fail loudly, key helpers); each other module is one site platform.
"""
