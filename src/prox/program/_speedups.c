/* The executor's two hot paths in C; built when a C compiler is present, pure Python otherwise.
 *
 * word_count: len(text.split()) without building the words, in one pass over the string's own storage.
 * str.split() with no separator splits on Py_UNICODE_ISSPACE, so counting the places where a word
 * character follows whitespace (or starts the text) gives exactly its number of words.
 *
 * canonical_doc_result: the result of a canonical keep_doc() / drop_doc() program, the doc program
 * nearly every document gets, built without a Python frame (prox.program.executor.execute_doc). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static unsigned char latin1_space[256];

#define COUNT_WORDS(TYPE, IS_SPACE)                          \
    {                                                        \
        const TYPE *p = (const TYPE *)data;                  \
        int in_space = 1;                                    \
        for (Py_ssize_t i = 0; i < n; i++) {                 \
            int space = IS_SPACE(p[i]);                      \
            words += in_space & !space;                      \
            in_space = space;                                \
        }                                                    \
    }

#define LATIN1_SPACE(c) latin1_space[(c)]
#define WIDE_SPACE(c) ((c) < 256 ? latin1_space[(c)] : Py_UNICODE_ISSPACE(c))

static PyObject *
word_count(PyObject *module, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "word_count() takes a str, not %.100s", Py_TYPE(text)->tp_name);
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0)
        return NULL;
#endif
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t words = 0;
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND:
        COUNT_WORDS(Py_UCS1, LATIN1_SPACE)
        break;
    case PyUnicode_2BYTE_KIND:
        COUNT_WORDS(Py_UCS2, WIDE_SPACE)
        break;
    default:
        COUNT_WORDS(Py_UCS4, WIDE_SPACE)
        break;
    }
    return PyLong_FromSsize_t(words);
}

static PyObject *keep_reason, *drop_reason, *empty;

/* canonical_doc_result(cls, text, program): cls((text, False, "keep_doc", text)) when program is
 * "keep_doc()", cls(("", True, "drop_doc", text)) when it is "drop_doc()", else None.
 * cls is a tuple subclass without slots of its own (ExecutionResult). */
static PyObject *
canonical_doc_result(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "canonical_doc_result() takes cls, text and program");
        return NULL;
    }
    PyObject *cls = args[0], *text = args[1], *program = args[2];
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, &PyTuple_Type)
        || ((PyTypeObject *)cls)->tp_basicsize != PyTuple_Type.tp_basicsize) {
        PyErr_SetString(PyExc_TypeError, "canonical_doc_result() needs a tuple subclass with __slots__ = ()");
        return NULL;
    }
    int keep;
    if (!PyUnicode_CheckExact(program) || PyUnicode_GET_LENGTH(program) != 10)
        Py_RETURN_NONE;
    if (PyUnicode_CompareWithASCIIString(program, "keep_doc()") == 0)
        keep = 1;
    else if (PyUnicode_CompareWithASCIIString(program, "drop_doc()") == 0)
        keep = 0;
    else
        Py_RETURN_NONE;
    PyTypeObject *type = (PyTypeObject *)cls;
    PyObject *result = type->tp_alloc(type, 4);
    if (result == NULL)
        return NULL;
    PyObject *refined = keep ? text : empty, *dropped = keep ? Py_False : Py_True;
    PyObject *reason = keep ? keep_reason : drop_reason;
    Py_INCREF(refined);
    Py_INCREF(dropped);
    Py_INCREF(reason);
    Py_INCREF(text);
    PyTuple_SET_ITEM(result, 0, refined);
    PyTuple_SET_ITEM(result, 1, dropped);
    PyTuple_SET_ITEM(result, 2, reason);
    PyTuple_SET_ITEM(result, 3, text);
    return result;
}

static PyMethodDef methods[] = {
    {"word_count", word_count, METH_O, "len(text.split()), without building the words."},
    {"canonical_doc_result", (PyCFunction)(void (*)(void))canonical_doc_result, METH_FASTCALL,
     "The ExecutionResult of a canonical keep_doc() / drop_doc() program on text; None for any other program."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, 0, methods};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    for (int c = 0; c < 256; c++)
        latin1_space[c] = Py_UNICODE_ISSPACE(c) ? 1 : 0;
    keep_reason = PyUnicode_InternFromString("keep_doc");
    drop_reason = PyUnicode_InternFromString("drop_doc");
    empty = PyUnicode_FromString("");
    if (keep_reason == NULL || drop_reason == NULL || empty == NULL)
        return NULL;
    return PyModule_Create(&module);
}
