"""The proxy-fidelity study: how well a search's cheap proxy ranks architectures against a reference.

``fidelity.reference`` trains the reference table (architectures of a space by the deployment recipe, several
seeds); ``fidelity.run`` scores the same architectures by a proxy through the search's candidate pipeline and
ranks the two (``fidelity.rank_stats``); ``fidelity.compare`` sets two proxies' rankings side by side. It
uses the search engine (``search``) and nothing in ``search`` uses it.
"""
