"""The board's and funders' protected sets kept beside the database (`store`) and worked out ahead for every
period they can choose (`prepare`, the `python -m atlas prepare` command). The store sits below the views,
which read and write it; `prepare` sits with the commands, over the views. This package imports neither here,
so the views importing the store import nothing above them."""
