"""Where the product may connect out to: staff-set URLs refuse internal addresses.

Pure package: no Django. The deployment's allow-list is passed in.
"""
