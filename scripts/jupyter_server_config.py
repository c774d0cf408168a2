"""Jupyter Server settings for `npm run lab`.

Notebooks are saved without outputs, so working in Lab (autosave included) leaves the repository clean: one
chart output embeds about 4.8 MB of plotly.js. `npm run report` is where executed notebooks are kept.
"""


def scrub_outputs(model, **kwargs):
    """Clears code cells' outputs and execution counts before a notebook is written to disk."""
    if model.get('type') != 'notebook' or model['content'].get('nbformat') != 4:
        return
    for cell in model['content']['cells']:
        if cell['cell_type'] == 'code':
            cell['outputs'] = []
            cell['execution_count'] = None


c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)
c.FileContentsManager.pre_save_hook = scrub_outputs
