/* len(text.split()) without building the words: one pass over the string's own storage.
 *
 * str.split() with no separator splits on Py_UNICODE_ISSPACE, so counting the places where a word
 * character follows whitespace (or starts the text) gives exactly its number of words.
 * Built when a C compiler is present; prox.program.words falls back to pure Python otherwise. */
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

static PyMethodDef methods[] = {
    {"word_count", word_count, METH_O, "len(text.split()), without building the words."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_wordcount", NULL, 0, methods};

PyMODINIT_FUNC
PyInit__wordcount(void)
{
    for (int c = 0; c < 256; c++)
        latin1_space[c] = Py_UNICODE_ISSPACE(c) ? 1 : 0;
    return PyModule_Create(&module);
}
