"""The DSDT web application (Flask). The engine is a library it calls."""
