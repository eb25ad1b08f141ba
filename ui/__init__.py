"""User interfaces: the ``empathic`` command and the Gradio demo. The top layer; nothing imports it."""
