/* The kernel templates of src/export/templates/kernels.c.in as one string,
 * compiled into the library from a file the build generates
 * (cmake/embed_text.cmake), so they are kept and read as C. */
#ifndef CK_EXPORT_TEMPLATES_H
#define CK_EXPORT_TEMPLATES_H

extern const char ck_export_templates[];

#endif
