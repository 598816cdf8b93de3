"""The application layer: what a person can do with the product, whatever door they come in by.

The dashboard, the JSON API and the Lark card buttons all call the services here. They check who may
do what (policies/access.py), run the approvals workflow, rank the rooms and build the period report,
and they return data and codes, never UI text: the interfaces choose the language. Storage is reached
only through the ports in application/ports.py, which store/ implements; so this package imports the
domain (core, policies) and nothing else of the project.
"""
