"""Kit code as the course's own templates (2022-2025) wrote it, where it differs from this kit's.

An upload whose kit code matches one of these definitions (compared by AST, docstrings
stripped) has not edited anything: it was written in the course's template.  Either
way the graded module holds this kit's definition (see ``splice``).
"""

COURSE_DEFINITIONS = '''
def convolve(inputs, kernels, padding=0):
    # !!! Don't change this function, it's here for your reference only !!!
    if os.environ.get("USE_FAST_CONVOLVE", False):
        return convolve_pytorch(inputs, kernels, padding)
    return convolve_numpy(inputs, kernels, padding)
'''
