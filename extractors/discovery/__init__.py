"""Registry entries from public directories: the NA world's list of BMLT root servers, and 12 Step Meeting List
sites found by their home pages.

Pure functions over bytes (``bmlt.parse_server_list``, ``tsml.read_plugin_page``) and over registry documents
(``registry_file.merge``); the fetching is injected by the caller, as in the family parsers.
"""


class DiscoveryError(ValueError):
    """A directory could not be read as one (not JSON, wrong shape, an entry without a URL); says where."""
